"""mrdquant.report"""
