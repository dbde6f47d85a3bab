module github.com/warmcache/warmcache/go-fixture

go 1.19
