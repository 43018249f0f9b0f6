"""mrdquant.io"""
