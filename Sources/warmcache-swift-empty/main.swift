// Does nothing: `warmcheck bench startup` times its exec as the floor of a Swift program's start
// (row f), next to the Swift consumer (Sources/warmcache-swift-consumer).
