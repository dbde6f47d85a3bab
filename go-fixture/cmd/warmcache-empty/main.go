// Command warmcache-empty does nothing: `warmcheck bench startup` times its exec as the floor of
// a Go program's start (row f).
package main

func main() {}
