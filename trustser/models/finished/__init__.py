"""trustser.models.finished"""
