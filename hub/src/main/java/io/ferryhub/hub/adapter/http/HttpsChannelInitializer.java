package io.ferryhub.hub.adapter.http;

import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The HTTPS port's pipeline: TLS, HTTP/1.1, idle timeout, responses kept in request order, body aggregation, then
 * REST or a WebSocket upgrade.
 * A {@link WebSocketEndpoint} taking over a connection removes the handlers named here that it does not need.
 */
public final class HttpsChannelInitializer extends ChannelInitializer<SocketChannel> {
    public static final String TLS = "tls";
    public static final String HTTP_CODEC = "http-codec";
    public static final String IDLE = "idle";
    public static final String ORDERING = "http-response-order";
    public static final String AGGREGATOR = "http-aggregator";
    public static final String DISPATCHER = "http-dispatcher";
    /** Keep-alive connections nobody uses (no request in flight) are closed after this long. */
    private static final int IDLE_SECONDS = 300;
    /**
     * Requests one connection may have in progress at once; a pipelining client's next request waits (and reading
     * stops) until an earlier one is answered. Enough for any client or proxy; bounds what one connection queues.
     */
    static final int MAX_REQUESTS_IN_FLIGHT = 16;

    private final SslContext sslContext;
    private final int maxBodyBytes;
    private final HttpRequestDispatcher dispatcher;

    /** @param endpoints the live list of WebSocket endpoints; endpoints added later are seen by new requests */
    public HttpsChannelInitializer(SslContext sslContext, int maxBodyBytes, RestRouter router,
                                   List<WebSocketEndpoint> endpoints) {
        this.sslContext = sslContext;
        this.maxBodyBytes = maxBodyBytes;
        this.dispatcher = new HttpRequestDispatcher(router, endpoints);
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ChannelPipeline p = ch.pipeline();
        p.addLast(TLS, sslContext.newHandler(ch.alloc()));
        p.addLast(HTTP_CODEC, new HttpServerCodec());
        p.addLast(IDLE, new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS));
        // in front of the aggregator, so that its 413 too waits for the answers to earlier requests
        p.addLast(ORDERING, new PipelinedResponses(MAX_REQUESTS_IN_FLIGHT));
        p.addLast(AGGREGATOR, new BodyLimitAggregator(maxBodyBytes));
        p.addLast(DISPATCHER, dispatcher);
    }
}
