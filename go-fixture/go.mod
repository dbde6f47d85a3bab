module warmcache

go 1.19
