module example.com/net_probe

go 1.26.8
