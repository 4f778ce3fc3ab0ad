"""An example framework for gradparity, registered by entry point (group
``gradparity.frameworks``): "numpy_cs", NumPy differentiated by complex step, whose builders call
gradparity's own reference forward passes. It exists to show, and test, that a framework is one
folder and one row: installing this package makes ``numpy_cs`` a column of ``gradparity cells``,
an oracle of ``compare`` and of the agreement suite, with no other file changed.
(docs/adding-a-framework.md walks through it.)"""

from gradparity import Builder, Framework

FRAMEWORK = Framework(
    name="numpy_cs",
    summary="NumPy, complex step (an example)",
    requires=("numpy",),
    extra="numpy_cs",
    distributions=(("numpy",),),
    adapter="gradparity_numpy_framework.adapter:NumpyAdapter",
    builders={
        "rnn": Builder("gradparity_numpy_framework.builders:rnn"),
        "gru": Builder("gradparity_numpy_framework.builders:gru"),
    },
)
