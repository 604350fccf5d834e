package io.ferryhub.client.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.handler.proxy.ProxyHandler;
import io.netty.resolver.NoopAddressResolverGroup;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP proxy that outgoing connections go through with {@code CONNECT host:port} (TLS still ends at the hub),
 * with basic authentication when a user is given, for devices whose network only lets traffic out that way.
 */
public record HttpConnectProxy(String host, int port, String user, String password) {
    private static final long CONNECT_TIMEOUT_MILLIS = 10_000;

    public HttpConnectProxy {
        if (host == null || host.isEmpty() || port < 1 || port > 65535) {
            throw new IllegalArgumentException("an HTTP proxy needs a host and a port");
        }
    }

    /** {@code http://[user:password@]host:port} (user and password percent-encoded). */
    public static HttpConnectProxy parse(String url) {
        URI uri;
        try {
            uri = URI.create(url.contains("://") ? url : "http://" + url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a proxy URL: " + url);
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("the proxy must be http://[user:password@]host:port, got " + url);
        }
        String user = null;
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String info = uri.getRawUserInfo();
            int colon = info.indexOf(':');
            user = decode(colon < 0 ? info : info.substring(0, colon));
            password = colon < 0 ? "" : decode(info.substring(colon + 1));
        }
        return new HttpConnectProxy(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 3128, user, password);
    }

    /** A new handler for one connection; goes first in its pipeline. */
    public ProxyHandler newHandler() {
        InetSocketAddress address = new InetSocketAddress(host, port);
        HttpProxyHandler handler = user == null ? new HttpProxyHandler(address)
                : new HttpProxyHandler(address, user, password);
        handler.setConnectTimeoutMillis(CONNECT_TIMEOUT_MILLIS);
        return handler;
    }

    /**
     * Connects {@code bootstrap} (whose pipeline starts with {@link #newHandler()} when proxied) to host:port:
     * through the proxy, the host name goes to the proxy unresolved, since devices behind such proxies often
     * cannot resolve outside names themselves. The future completes once the proxy's tunnel is open, so a proxy
     * refusing the target (403, 407, 502...) fails it like a refused connection.
     */
    public static ChannelFuture connect(Bootstrap bootstrap, HttpConnectProxy proxy, String host, int port) {
        if (proxy == null) {
            return bootstrap.connect(host, port);
        }
        ChannelFuture tcp = bootstrap.resolver(NoopAddressResolverGroup.INSTANCE)
                .connect(InetSocketAddress.createUnresolved(host, port));
        ChannelPromise tunnel = tcp.channel().newPromise();
        tcp.addListener((ChannelFutureListener) connected -> {
            ProxyHandler handler = connected.channel().pipeline().get(ProxyHandler.class);
            if (!connected.isSuccess() || handler == null) {
                tunnel.tryFailure(connected.isSuccess() ? new IllegalStateException("no proxy handler")
                        : connected.cause());
                return;
            }
            handler.connectFuture().addListener(established -> {
                if (established.isSuccess()) {
                    tunnel.trySuccess();
                } else {
                    tunnel.tryFailure(established.cause());
                }
            });
        });
        return tunnel;
    }

    @Override
    public String toString() {
        // Never the password.
        return "http://" + (user == null ? "" : user + ":***@") + host + ":" + port;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
