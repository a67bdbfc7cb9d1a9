"""The learning side: networks (score MLP, UNet, noisy classifier, digit classifier, VAE), losses, checkpoints, and
the one training loop (explorer.nn.loop.fit) that every trainer runs through its callback."""
