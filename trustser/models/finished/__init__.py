"""Finished models (`--model hf:DIR`, `--model torch:package.module:factory`): loaded offline
(`formats`), their labels mapped to the audit's emotions (`labels`), their head re-expressed on the
encoder's layer stack (`model`).
"""
