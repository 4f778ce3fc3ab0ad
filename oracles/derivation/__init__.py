"""``gradparity derivation``: a hand-written backward pass in the lecture slides' ``deriv()``
notation, checked against the true gradients of its forward program."""
