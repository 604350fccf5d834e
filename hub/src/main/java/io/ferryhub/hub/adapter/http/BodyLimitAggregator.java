package io.ferryhub.hub.adapter.http;

import io.ferryhub.common.error.HubErrorCode;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.util.ReferenceCountUtil;

/**
 * Aggregates request bodies (fixed-length or chunked) up to the limit and answers a larger one with IoT Hub's
 * 413 error, then closes: the rest of an oversized body cannot be skipped reliably.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
    private final int maxBytes;

    BodyLimitAggregator(int maxBytes) {
        super(maxBytes);
        this.maxBytes = maxBytes;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        ReferenceCountUtil.release(oversized);
        FullHttpResponse response = HubErrorResponse.of(HubErrorCode.MessageTooLarge,
                "The request body is larger than " + maxBytes + " bytes");
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
