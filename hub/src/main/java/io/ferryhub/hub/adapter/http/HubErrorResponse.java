package io.ferryhub.hub.adapter.http;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.adapter.NonSecretIds;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * IoT Hub's error response: the status of the error code, header {@code iothub-errorcode: {Name}} and the body
 * {@code {"Message":"{\"errorCode\":...,\"trackingId\":...,\"message\":...,\"timestampUtc\":...}",
 * "ExceptionMessage":""}}.
 * The inner JSON stays flat (strings and numbers only): the C# SDK parses it as a string dictionary.
 */
public final class HubErrorResponse {
    public static final String ERROR_CODE_HEADER = "iothub-errorcode";
    private static final DateTimeFormatter TRACKING_TIME = DateTimeFormatter.ofPattern("MM/dd/yyyy HH:mm:ss")
            .withZone(ZoneOffset.UTC);

    private HubErrorResponse() {
    }

    public static byte[] body(HubErrorCode code, String message) {
        Instant now = Instant.now();
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("errorCode", code.code());
        // errors are answered on event loops and (timeouts) on the hub's timer: no SecureRandom here
        inner.put("trackingId", NonSecretIds.uuid().toString().replace("-", "") + "-G:0-TimeStamp:"
                + TRACKING_TIME.format(now));
        inner.put("message", message == null ? code.defaultMessage() : message);
        inner.put("timestampUtc", now.toString());
        Map<String, Object> outer = new LinkedHashMap<>();
        outer.put("Message", Json.toString(inner));
        outer.put("ExceptionMessage", "");
        return Json.toBytes(outer);
    }

    public static FullHttpResponse of(HubErrorCode code, String message) {
        byte[] body = body(code, message);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(code.httpStatus()), Unpooled.wrappedBuffer(body));
        response.headers().set(ERROR_CODE_HEADER, code.name());
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, RestResponse.JSON);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return response;
    }
}
