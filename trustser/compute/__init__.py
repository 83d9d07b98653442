"""trustser.compute"""
