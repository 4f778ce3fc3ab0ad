"""The ``gradparity`` commands: compare, reproduce, record, mutate, cells, certify, report,
derivation, bench."""
