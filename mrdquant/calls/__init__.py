"""mrdquant.calls"""
