"""trustser.run"""
