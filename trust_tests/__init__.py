"""The trust audit, one module per pillar. Installed as `trustser.trust_tests` (`pytest --pyargs
trustser.trust_tests`); `trustser init` copies these modules into a team's repository."""
