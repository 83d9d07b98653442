"""Where and how work runs: devices and precision (`devices`), the executor (local or Ray,
`executor`), independent units of work on it (`units_of_work`), heap trimming (`memory`), and the
energy meter every stage that is measured runs under (`energy`).

May import: nothing
"""
