package io.ferryhub.hub.adapter.http;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.adapter.TlsClientCertificates;
import io.ferryhub.hub.service.auth.AuthenticationRefused;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.throttling.OperationClass;
import io.ferryhub.hub.service.throttling.Throttles;
import io.ferryhub.hub.service.auth.ServiceAuthenticator;
import io.ferryhub.hub.service.auth.ServicePrincipal;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The REST route table and its dispatcher: matches a request to a route, authenticates the caller for the route's
 * permission and runs the handler on the request executor (never on the event loop), then writes the answer or
 * IoT Hub's error response. The {@code api-version} parameter is accepted whatever its value: every SDK sends a
 * different one.
 */
public final class RestRouter implements RestRoutes {
    private static final Logger log = LoggerFactory.getLogger(RestRouter.class);
    static final String METHOD_OVERRIDE = "X-HTTP-Method-Override";

    /** @param throttle the hub throttle the route counts against, or null */
    private record Route(HttpMethod method, RouteTemplate template, Permission permission, RestHandler handler,
                         OperationClass throttle) {
    }

    private record Match(Route route, Map<String, String> params) {
    }

    private final List<Route> routes = new CopyOnWriteArrayList<>();
    private final ServiceAuthenticator authenticator;
    private final Executor executor;
    private volatile Throttles throttles = Throttles.off();

    public RestRouter(ServiceAuthenticator authenticator, Executor executor) {
        this.authenticator = authenticator;
        this.executor = executor;
    }

    @Override
    public void add(HttpMethod method, String pathTemplate, Permission permission, RestHandler handler) {
        routes.add(new Route(method, new RouteTemplate(pathTemplate), permission, handler,
                ThrottledRoutes.classOf(method, pathTemplate, permission)));
    }

    /** Service routes count against these throttles once their caller is authenticated (429001 past the rate). */
    public void throttleWith(Throttles hubThrottles) {
        this.throttles = hubThrottles;
    }

    /**
     * Requests of a connection that are being served: the idle timeout must not close a connection whose caller is
     * waiting for a long answer (a direct method may take minutes).
     */
    private static final AttributeKey<AtomicInteger> IN_FLIGHT = AttributeKey.valueOf("rest-requests-in-flight");

    static int requestsInFlight(Channel channel) {
        AtomicInteger count = channel.attr(IN_FLIGHT).get();
        return count == null ? 0 : count.get();
    }

    /** Serves one request; takes ownership of (releases) it. Called on the event loop; returns at once. */
    void dispatch(ChannelHandlerContext ctx, FullHttpRequest request) {
        ctx.channel().attr(IN_FLIGHT).setIfAbsent(new AtomicInteger());
        ctx.channel().attr(IN_FLIGHT).get().incrementAndGet();
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        long order = PipelinedResponses.currentRequest(ctx);
        RestRequest partial;
        Route route;
        try {
            QueryStringDecoder target = new QueryStringDecoder(RequestTarget.pathAndQuery(request.uri()));
            HttpMethod method = effectiveMethod(request);
            String rawPath = target.rawPath();
            Match match = find(method, RouteTemplate.split(rawPath), rawPath);
            route = match.route();
            partial = new RestRequest(method, rawPath, match.params(), target.parameters(),
                    request.headers().copy(), ByteBufUtil.getBytes(request.content()), null,
                    remote(ctx.channel().remoteAddress()), TlsClientCertificates.of(ctx.channel()));
        } catch (HubException e) {
            answer(ctx, HubErrorResponse.of(e.errorCode(), e.getMessage()), keepAlive, order);
            return;
        } catch (IllegalArgumentException e) {
            // malformed percent-escapes in the path or query, or an unusable method override
            answer(ctx, HubErrorResponse.of(HubErrorCode.IotHubFormatError, "Malformed request: " + e.getMessage()),
                    keepAlive, order);
            return;
        } finally {
            request.release();
        }
        try {
            executor.execute(() -> run(ctx, route, partial, keepAlive, order));
        } catch (RejectedExecutionException e) {
            answer(ctx, HubErrorResponse.of(HubErrorCode.ThrottlingException,
                    "The hub is busy; retry the request later"), keepAlive, order);
        }
    }

    private Match find(HttpMethod method, List<String> segments, String rawPath) {
        Match best = null;
        boolean pathKnown = false;
        for (Route route : routes) {
            Map<String, String> params = route.template().match(segments);
            if (params == null) {
                continue;
            }
            pathKnown = true;
            if (route.method().equals(method)
                    && (best == null || route.template().literalCount() > best.route().template().literalCount())) {
                best = new Match(route, params);
            }
        }
        if (best == null) {
            throw new HubException(HubErrorCode.InvalidOperation, pathKnown
                    ? method + " is not supported on " + rawPath
                    : "No operation is served at " + rawPath);
        }
        return best;
    }

    private static HttpMethod effectiveMethod(FullHttpRequest request) {
        String override = request.headers().get(METHOD_OVERRIDE);
        if (override != null && !override.isBlank() && request.method().equals(HttpMethod.POST)) {
            return HttpMethod.valueOf(override.trim().toUpperCase(Locale.ROOT));
        }
        return request.method();
    }

    private void run(ChannelHandlerContext ctx, Route route, RestRequest partial, boolean keepAlive, long order) {
        CompletableFuture<RestResponse> answer;
        try {
            ServicePrincipal principal = route.permission() == null ? null
                    : authenticator.authenticate(partial.header(HttpHeaderNames.AUTHORIZATION.toString()),
                    route.permission());
            if (route.throttle() != null) {
                throttles.admit(route.throttle(), partial.body().length);
            }
            RestRequest request = new RestRequest(partial.method(), partial.path(), partial.pathParams(),
                    partial.query(), partial.headers(), partial.body(), principal, partial.remoteAddress(),
                    partial.clientCertificates());
            answer = route.handler().handle(request);
        } catch (Throwable t) {
            answer = CompletableFuture.failedFuture(t);
        }
        answer.whenComplete((response, failure) -> {
            if (failure == null && response == null) {
                failure = new IllegalStateException("route " + route.template() + " answered nothing");
            }
            answer(ctx, failure == null ? toHttp(response) : toError(route, partial, failure), keepAlive, order);
        });
    }

    private static FullHttpResponse toHttp(RestResponse r) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(r.status()), Unpooled.wrappedBuffer(r.body()));
        r.headers().forEach((name, value) -> response.headers().set(name, value));
        if (r.contentType() != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
        }
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        return response;
    }

    private static FullHttpResponse toError(Route route, RestRequest request, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof AuthenticationRefused refused) {
            // the caller gets the bare 401; the reason is for the operator
            log.info("{} {} from {} refused: {}", request.method(), request.path(), request.remoteAddress(),
                    refused.reason());
        }
        if (cause instanceof HubException e) {
            return HubErrorResponse.of(e.errorCode(), e.getMessage());
        }
        log.error("{} {} failed in route {}", request.method(), request.path(), route.template(), cause);
        return HubErrorResponse.of(HubErrorCode.ServerError, "Internal server error");
    }

    /**
     * Writes the answer to a dispatched request, in its turn: requests are served concurrently, but a pipelining
     * client pairs answers with requests by their order only.
     */
    private static void answer(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive, long order) {
        ctx.channel().attr(IN_FLIGHT).get().decrementAndGet();
        write(ctx, response, keepAlive, order);
    }

    /** Writes the answer to the request being read now (at once, on the event loop). */
    static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        write(ctx, response, keepAlive, PipelinedResponses.currentRequest(ctx));
    }

    private static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive, long order) {
        response.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE
                : HttpHeaderValues.CLOSE);
        var written = ctx.writeAndFlush(PipelinedResponses.inOrder(order, response));
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static String remote(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet.getAddress().getHostAddress() : String.valueOf(address);
    }
}
