"""The framework-free core: the registry's types, cases, the tolerance table, comparison,
validation, the objective, stacking, the framework descriptor and the one oracle loop.

Nothing here imports a framework or changes the process when imported.
"""
