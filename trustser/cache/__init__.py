"""The audit's on-disk cache: content-addressed keys, atomic writes, files verified when read, private
to their user at any root, failed writes named with the free space (`CacheWriteError`), never pickle
(`store.Cache`).

May import: nothing
"""
