"""Runtime kit shared by every service of the 一卡通 platform."""
