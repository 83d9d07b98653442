"""A pytest plugin (`-p tests.models.without_extras`) that makes the optional extras speechbrain and funasr
unimportable in that run, as where they are not installed: `sys.modules[name] = None` makes `import name`
raise ImportError (the import system's own convention for a blocked module)."""

import sys

for _name in ("speechbrain", "funasr"):
    sys.modules[_name] = None
