"""The audit's on-disk cache: content-addressed keys, atomic writes, files verified when read, private
to their user, never pickle (`store.Cache`).

May import: nothing
"""
