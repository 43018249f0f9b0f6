"""mrdquant.pcr"""
