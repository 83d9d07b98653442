"""Code named on the command line: a team's factories (`torch:package.module:factory`) and entry-point
plugins, imported from the team's repository (`team_code`).

May import: nothing
"""
