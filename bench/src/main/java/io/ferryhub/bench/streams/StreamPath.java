package io.ferryhub.bench.streams;

import java.net.InetSocketAddress;

/** One way to reach the target server: directly, through the stunnel chain, or through a device stream. */
record StreamPath(String name, InetSocketAddress address) {
}
