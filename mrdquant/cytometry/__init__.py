"""mrdquant.cytometry"""
