"""mrdquant.cli"""
