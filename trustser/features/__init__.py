"""trustser.features"""
