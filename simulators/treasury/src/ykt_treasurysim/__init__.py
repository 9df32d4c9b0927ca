"""Treasury simulator: stands in for 预算管理一体化 / 国库集中支付."""
