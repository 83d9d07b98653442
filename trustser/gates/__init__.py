"""trustser.gates"""
