"""trustser.specs"""
