"""Code the timeline scripts run inside the measured process: marks when chosen modules
finish importing, and around chosen functions of them.

``IMPORT_MARKS`` is pasted into a wrapper after it has defined ``mark(what)``, ``IMPORTS``
(module names whose import's end is marked "imported NAME"), ``STEPS`` (module name ->
functions or ``Class.method`` names, each marked "> NAME" and "< NAME" around every call;
one that a version of the module lacks is skipped) and ``HOOKS`` (module name -> a function
called with the module once it is imported). It needs ``functools``, ``importlib.abc`` and
``sys`` imported.
"""

IMPORT_MARKS = r"""
def timed(function, name):
    @functools.wraps(function)
    def run(*args, **kwargs):
        mark("> " + name)
        try:
            return function(*args, **kwargs)
        finally:
            mark("< " + name)
    return run
class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in IMPORTS and name not in STEPS and name not in HOOKS:
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
        else:
            return None
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            if name in IMPORTS:
                mark("imported " + name)
            if name in HOOKS:
                HOOKS[name](module)
            for step in STEPS.get(name, []):
                owner_name, _, attribute = step.rpartition(".")
                owner = getattr(module, owner_name, None) if owner_name else module
                if hasattr(owner, attribute):  # another version may not have this step
                    setattr(owner, attribute, timed(getattr(owner, attribute), step))
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Finder())
"""
