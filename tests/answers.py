"""Which test is running, for answers to dialogs scheduled on timers.

``tests.ui.conftest.answer_next_dialog`` keeps looking for a dialog for a while; when the
test that asked has finished, it must stop, or it could answer a later test's dialog.
The autouse fixture in tests/conftest.py bumps the generation after every test.
"""

GENERATION = [0]
