package io.ferryhub.hub.adapter.http.device;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.adapter.http.RestRequest;
import io.ferryhub.hub.adapter.http.RestResponse;
import io.ferryhub.hub.adapter.http.RestRoutes;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.auth.AuthenticationRefused;
import io.ferryhub.hub.service.auth.DeviceAuthenticator;
import io.ferryhub.hub.service.c2d.C2dMessage;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.telemetry.DeviceMessage;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * IoT Hub's HTTPS device API: telemetry ({@code POST /devices/{id}/messages/events}, single or a
 * {@code application/vnd.microsoft.iothub.json} batch, also for modules) and polled cloud-to-device messages
 * ({@code GET /devices/{id}/messages/deviceBound}, settled with {@code DELETE .../{etag}} to complete,
 * {@code DELETE .../{etag}?reject} to reject, {@code POST .../{etag}/abandon} to abandon). The device's SAS token
 * comes in {@code Authorization}, an X.509 device's certificate in the TLS handshake; these routes authenticate
 * them themselves (no service permission applies).
 */
public final class DeviceMessagingRoutes {
    private static final String BATCH_CONTENT_TYPE = "application/vnd.microsoft.iothub.json";
    /**
     * The most messages one HTTPS batch may hold. IoT Hub caps a batch at 256 KB only, but every message costs the
     * hub an append and a durable commit whatever its size: 256 KB of empty messages is tens of thousands of them
     * (seconds of work for one request). 500 keeps a batch's cost bounded (well under a second) and is far above
     * what the SDKs batch in practice.
     */
    public static final int MAX_BATCH_MESSAGES = 500;

    private final DeviceAuthenticator authenticator;
    private final TelemetryService telemetry;
    private final CloudToDeviceService c2d;

    public DeviceMessagingRoutes(DeviceAuthenticator authenticator, TelemetryService telemetry,
                                 CloudToDeviceService c2d) {
        this.authenticator = authenticator;
        this.telemetry = telemetry;
        this.c2d = c2d;
    }

    public void register(RestRoutes routes) {
        routes.add(HttpMethod.POST, "/devices/{deviceId}/messages/events", null, this::sendEvents);
        routes.add(HttpMethod.POST, "/devices/{deviceId}/modules/{moduleId}/messages/events", null, this::sendEvents);
        routes.add(HttpMethod.GET, "/devices/{deviceId}/messages/deviceBound", null, this::receive);
        routes.add(HttpMethod.DELETE, "/devices/{deviceId}/messages/deviceBound/{etag}", null, this::completeOrReject);
        routes.add(HttpMethod.POST, "/devices/{deviceId}/messages/deviceBound/{etag}/abandon", null, this::abandon);
    }

    private AuthenticatedDevice authenticate(RestRequest request) {
        String token = request.header(HttpHeaderNames.AUTHORIZATION.toString());
        if (token == null || token.isBlank()) {
            if (request.clientCertificates() == null) {
                throw new AuthenticationRefused("neither an Authorization header nor a TLS client certificate");
            }
            // X.509 devices: the certificate of the TLS handshake is the credential
            return authenticator.authenticate(request.pathParam("deviceId"), request.pathParam("moduleId"), null,
                    request.clientCertificates(), addressOf(request));
        }
        return authenticator.authenticate(request.pathParam("deviceId"), request.pathParam("moduleId"), token, null,
                addressOf(request));
    }

    /** The caller's address (an IP literal, so no name is looked up), for the failed-authentication count. */
    private static InetAddress addressOf(RestRequest request) {
        try {
            return request.remoteAddress() == null ? null : InetAddress.getByName(request.remoteAddress());
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private CompletableFuture<RestResponse> sendEvents(RestRequest request) {
        AuthenticatedDevice device = authenticate(request);
        String contentType = request.header(HttpHeaderNames.CONTENT_TYPE.toString());
        List<DeviceMessage> messages = contentType != null
                && contentType.toLowerCase(Locale.ROOT).startsWith(BATCH_CONTENT_TYPE)
                ? HttpMessageCodec.batch(request.body(), MAX_BATCH_MESSAGES)
                : List.of(HttpMessageCodec.single(request.headers(), request.body()));
        if (messages.isEmpty()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "the batch holds no message");
        }
        int total = 0;
        for (DeviceMessage message : messages) {
            total += TelemetryService.messageSize(message);
        }
        if (total > TelemetryService.MAX_MESSAGE_BYTES) {
            throw new HubException(HubErrorCode.MessageTooLarge, "batch of " + total + " bytes is over IoT Hub's "
                    + TelemetryService.MAX_MESSAGE_BYTES + "-byte limit");
        }
        // appended in order; the answer waits until every message is durable
        CompletableFuture<?> all = CompletableFuture.completedFuture(null);
        for (DeviceMessage message : messages) {
            all = all.thenCompose(v -> telemetry.send(device, message, TelemetryService.Source.Telemetry));
        }
        return all.thenApply(v -> RestResponse.noContent());
    }

    private CompletableFuture<RestResponse> receive(RestRequest request) {
        AuthenticatedDevice device = deviceOnly(authenticate(request));
        return c2d.receive(device.deviceId(), device.generationId()).thenApply(taken -> taken
                .map(locked -> c2dResponse(locked.lockToken(), locked.message()))
                .orElseGet(RestResponse::noContent));
    }

    private static RestResponse c2dResponse(String lockToken, C2dMessage message) {
        RestResponse response = new RestResponse(200, new java.util.LinkedHashMap<>(), message.body(),
                "application/octet-stream")
                .withHeader("ETag", "\"" + lockToken + "\"")
                .withHeader("iothub-messageid", message.messageId())
                .withHeader("iothub-sequencenumber", Long.toString(message.sequenceNumber()))
                .withHeader("iothub-to", "/devices/" + message.deviceId() + "/messages/deviceBound")
                .withHeader("iothub-expiry", Instant.ofEpochMilli(message.expiryMillis()).toString())
                .withHeader("iothub-enqueuedtime", Instant.ofEpochMilli(message.enqueuedMillis()).toString())
                .withHeader("iothub-deliverycount", Integer.toString(message.deliveryCount()))
                .withHeader("iothub-ack", message.ack());
        if (message.correlationId() != null) {
            response = response.withHeader("iothub-correlationid", message.correlationId());
        }
        if (message.userId() != null) {
            response = response.withHeader("iothub-userid", message.userId());
        }
        if (message.contentType() != null) {
            response = response.withHeader("iothub-contenttype", message.contentType());
        }
        if (message.contentEncoding() != null) {
            response = response.withHeader("iothub-contentencoding", message.contentEncoding());
        }
        for (var property : message.properties().entrySet()) {
            response = response.withHeader(HttpMessageCodec.APP_PROPERTY_PREFIX + property.getKey(),
                    property.getValue() == null ? "" : property.getValue());
        }
        return response;
    }

    private CompletableFuture<RestResponse> completeOrReject(RestRequest request) {
        AuthenticatedDevice device = deviceOnly(authenticate(request));
        String lockToken = lockToken(request);
        // "?reject" as documented; the Java SDK's URL builder sends the key as "?reject" (after an '&')
        boolean reject = request.query().containsKey("reject") || request.query().containsKey("?reject");
        CompletableFuture<Void> settled = reject ? c2d.reject(device.deviceId(), lockToken)
                : c2d.complete(device.deviceId(), lockToken);
        return settled.thenApply(v -> RestResponse.noContent());
    }

    private CompletableFuture<RestResponse> abandon(RestRequest request) {
        AuthenticatedDevice device = deviceOnly(authenticate(request));
        return c2d.abandon(device.deviceId(), lockToken(request)).thenApply(v -> RestResponse.noContent());
    }

    private static AuthenticatedDevice deviceOnly(AuthenticatedDevice device) {
        if (device.moduleId() != null) {
            throw new HubException(HubErrorCode.InvalidOperation, "cloud-to-device messages go to devices only");
        }
        return device;
    }

    /** The ETag as the device sends it back: quoted or not. */
    private static String lockToken(RestRequest request) {
        String etag = request.pathParam("etag").trim();
        return etag.length() >= 2 && etag.startsWith("\"") && etag.endsWith("\"")
                ? etag.substring(1, etag.length() - 1) : etag;
    }
}
