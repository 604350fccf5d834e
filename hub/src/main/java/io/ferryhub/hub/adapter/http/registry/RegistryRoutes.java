package io.ferryhub.hub.adapter.http.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.adapter.http.RestRequest;
import io.ferryhub.hub.adapter.http.RestResponse;
import io.ferryhub.hub.adapter.http.RestRoutes;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.registry.BulkOperation;
import io.ferryhub.hub.service.registry.ConnectionStates;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.service.registry.RegistryStatistics;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.ToIntFunction;

/** IoT Hub's identity registry REST API: devices, modules, listing and statistics. */
public final class RegistryRoutes {
    /** IoT Hub's cap on {@code GET /devices?top=N}. */
    static final int MAX_TOP = 1000;
    /** Listing continuation, our own: the opaque position after the last device of the previous page. */
    static final String CONTINUATION = "x-ms-continuation";

    private final RegistryService registry;
    private final ToIntFunction<String> queuedMessages;

    private RegistryRoutes(RegistryService registry, ToIntFunction<String> queuedMessages) {
        this.registry = registry;
        this.queuedMessages = queuedMessages;
    }

    /**
     * @param queuedMessages how many cloud-to-device messages wait for a device: its
     *                       {@code cloudToDeviceMessageCount}
     */
    public static void register(RestRoutes routes, RegistryService registry, ToIntFunction<String> queuedMessages) {
        RegistryRoutes r = new RegistryRoutes(registry, queuedMessages);
        routes.add(HttpMethod.PUT, "/devices/{deviceId}", Permission.RegistryWrite, r::putDevice);
        routes.add(HttpMethod.GET, "/devices/{deviceId}", Permission.RegistryRead, r::getDevice);
        routes.add(HttpMethod.DELETE, "/devices/{deviceId}", Permission.RegistryWrite, r::deleteDevice);
        routes.add(HttpMethod.GET, "/devices", Permission.RegistryRead, r::listDevices);
        routes.add(HttpMethod.POST, "/devices", Permission.RegistryWrite, r::bulk);
        routes.add(HttpMethod.GET, "/statistics/devices", Permission.RegistryRead, r::statistics);
        routes.add(HttpMethod.GET, "/statistics/service", Permission.RegistryRead, r::serviceStatistics);
        routes.add(HttpMethod.PUT, "/devices/{deviceId}/modules/{moduleId}", Permission.RegistryWrite, r::putModule);
        routes.add(HttpMethod.GET, "/devices/{deviceId}/modules/{moduleId}", Permission.RegistryRead, r::getModule);
        routes.add(HttpMethod.DELETE, "/devices/{deviceId}/modules/{moduleId}", Permission.RegistryWrite,
                r::deleteModule);
        routes.add(HttpMethod.GET, "/devices/{deviceId}/modules", Permission.RegistryRead, r::listModules);
    }

    private CompletableFuture<RestResponse> putDevice(RestRequest request) {
        Device wanted = IdentityJson.readDevice(request.jsonBody());
        Device stored = registry.putDevice(request.pathParam("deviceId"), wanted, ifMatch(request));
        return done(deviceResponse(stored));
    }

    private CompletableFuture<RestResponse> getDevice(RestRequest request) {
        return done(deviceResponse(registry.device(request.pathParam("deviceId"))));
    }

    private CompletableFuture<RestResponse> deleteDevice(RestRequest request) {
        registry.deleteDevice(request.pathParam("deviceId"), ifMatch(request));
        return done(RestResponse.noContent());
    }

    private CompletableFuture<RestResponse> listDevices(RestRequest request) {
        int top = top(request.queryParam("top"));
        String after = decodeContinuation(request.header(CONTINUATION));
        List<Device> page = registry.devices(after, top + 1);
        ConnectionStates states = registry.connectionStates();
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (Device d : page.subList(0, Math.min(top, page.size()))) {
            out.add(IdentityJson.write(d, states.of(d.deviceId(), null), queuedMessages.applyAsInt(d.deviceId())));
        }
        RestResponse response = RestResponse.ok(out);
        if (page.size() > top) {
            response = response.withHeader(CONTINUATION, encodeContinuation(page.get(top - 1).deviceId()));
        }
        return done(response);
    }

    /**
     * Bulk create/update/delete. Entries are IoT Hub's ExportImportDevice ({@code id}, {@code importMode},
     * {@code eTag} and the device's fields); the answer is 200 with per-device errors, so that one bad entry does
     * not hide the outcome of the others.
     */
    private CompletableFuture<RestResponse> bulk(RestRequest request) {
        JsonNode body = request.jsonBody();
        if (!body.isArray()) {
            throw new HubException(HubErrorCode.IotHubFormatError, "A bulk request's body must be a JSON array");
        }
        if (body.size() > RegistryService.MAX_BULK) {
            throw new HubException(HubErrorCode.TooManyDevices, "A bulk request may hold at most "
                    + RegistryService.MAX_BULK + " devices, not " + body.size());
        }
        List<BulkOperation> operations = new ArrayList<>();
        for (JsonNode entry : body) {
            Device device = IdentityJson.readDevice(entry);
            String id = entry.hasNonNull("id") ? entry.get("id").asText() : device.deviceId();
            String etag = entry.hasNonNull("eTag") ? entry.get("eTag").asText() : entry.path("etag").asText(null);
            operations.add(new BulkOperation(id, BulkOperation.Mode.parse(entry.path("importMode").asText(null)),
                    etag, device));
        }
        List<BulkOperation.Failure> failures = registry.bulk(operations);
        ObjectNode out = Json.object().put("isSuccessful", failures.isEmpty());
        ArrayNode errors = out.putArray("errors");
        for (BulkOperation.Failure f : failures) {
            errors.addObject().put("deviceId", f.deviceId()).put("errorCode", f.errorCode().code())
                    .put("errorStatus", f.message());
        }
        out.putArray("warnings");
        return done(RestResponse.ok(out));
    }

    private CompletableFuture<RestResponse> statistics(RestRequest request) {
        RegistryStatistics s = registry.statistics();
        // "enableDeviceCount" too: the Java service SDK (iot-service-client 2.x) reads the enabled count from that
        // misspelled name and would report 0 without it
        return done(RestResponse.ok(Json.object()
                .put("totalDeviceCount", s.totalDeviceCount())
                .put("enabledDeviceCount", s.enabledDeviceCount())
                .put("enableDeviceCount", s.enabledDeviceCount())
                .put("disabledDeviceCount", s.disabledDeviceCount())));
    }

    private CompletableFuture<RestResponse> serviceStatistics(RestRequest request) {
        return done(RestResponse.ok(Json.object().put("connectedDeviceCount", registry.connectedDeviceCount())));
    }

    private CompletableFuture<RestResponse> putModule(RestRequest request) {
        Module wanted = IdentityJson.readModule(request.jsonBody());
        Module stored = registry.putModule(request.pathParam("deviceId"), request.pathParam("moduleId"), wanted,
                ifMatch(request));
        return done(moduleResponse(stored));
    }

    private CompletableFuture<RestResponse> getModule(RestRequest request) {
        return done(moduleResponse(registry.module(request.pathParam("deviceId"), request.pathParam("moduleId"))));
    }

    private CompletableFuture<RestResponse> deleteModule(RestRequest request) {
        registry.deleteModule(request.pathParam("deviceId"), request.pathParam("moduleId"), ifMatch(request));
        return done(RestResponse.noContent());
    }

    private CompletableFuture<RestResponse> listModules(RestRequest request) {
        String deviceId = request.pathParam("deviceId");
        ConnectionStates states = registry.connectionStates();
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (Module m : registry.modules(deviceId)) {
            out.add(IdentityJson.write(m, states.of(deviceId, m.moduleId())));
        }
        return done(RestResponse.ok(out));
    }

    private RestResponse deviceResponse(Device d) {
        return RestResponse.ok(IdentityJson.write(d, registry.connectionStates().of(d.deviceId(), null),
                        queuedMessages.applyAsInt(d.deviceId())))
                .withHeader(HttpHeaderNames.ETAG.toString(), "\"" + d.etag() + "\"");
    }

    private RestResponse moduleResponse(Module m) {
        return RestResponse.ok(IdentityJson.write(m, registry.connectionStates().of(m.deviceId(), m.moduleId())))
                .withHeader(HttpHeaderNames.ETAG.toString(), "\"" + m.etag() + "\"");
    }

    private static String ifMatch(RestRequest request) {
        String value = request.header(HttpHeaderNames.IF_MATCH.toString());
        return value == null || value.isBlank() ? null : value;
    }

    private static int top(String value) {
        if (value == null || value.isBlank()) {
            return MAX_TOP;
        }
        try {
            int top = Integer.parseInt(value.trim());
            if (top < 1) {
                throw new NumberFormatException();
            }
            return Math.min(top, MAX_TOP);
        } catch (NumberFormatException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "top must be a positive whole number");
        }
    }

    private static String encodeContinuation(String lastDeviceId) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(lastDeviceId.getBytes(StandardCharsets.UTF_8));
    }

    private static String decodeContinuation(String token) {
        if (token == null || token.isBlank()) {
            return null;
        }
        try {
            return new String(Base64.getUrlDecoder().decode(token.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "the " + CONTINUATION + " header is not one this "
                    + "hub issued");
        }
    }

    private static CompletableFuture<RestResponse> done(RestResponse response) {
        return CompletableFuture.completedFuture(response);
    }
}
