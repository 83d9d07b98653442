"""trustser.cache"""
