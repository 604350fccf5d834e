package io.ferryhub.hub.adapter.http.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.registry.Authentication;
import io.ferryhub.hub.service.registry.ConnectionStates;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;

import java.util.ArrayList;
import java.util.List;

/** IoT Hub's device and module JSON (the service SDKs' RegistryIdentityParser fields), both ways. */
final class IdentityJson {
    private IdentityJson() {
    }

    static Device readDevice(JsonNode node) {
        if (!node.isObject()) {
            throw new HubException(HubErrorCode.IotHubFormatError, "A device must be a JSON object");
        }
        List<String> parentScopes = null;
        if (node.path("parentScopes").isArray()) {
            parentScopes = new ArrayList<>();
            for (JsonNode s : node.get("parentScopes")) {
                parentScopes.add(s.asText());
            }
        }
        return new Device(text(node, "deviceId"), null, null, text(node, "status"), text(node, "statusReason"),
                null, readAuthentication(node.get("authentication")),
                node.path("capabilities").path("iotEdge").asBoolean(false), text(node, "deviceScope"),
                parentScopes);
    }

    static Module readModule(JsonNode node) {
        if (!node.isObject()) {
            throw new HubException(HubErrorCode.IotHubFormatError, "A module must be a JSON object");
        }
        return new Module(text(node, "deviceId"), text(node, "moduleId"), null, null, text(node, "managedBy"),
                readAuthentication(node.get("authentication")));
    }

    private static Authentication readAuthentication(JsonNode auth) {
        if (auth == null || auth.isNull()) {
            return null;
        }
        if (!auth.isObject()) {
            throw new HubException(HubErrorCode.IotHubFormatError, "authentication must be a JSON object");
        }
        JsonNode keys = auth.get("symmetricKey");
        JsonNode thumbs = auth.get("x509Thumbprint");
        return new Authentication(text(auth, "type"),
                keys == null || keys.isNull() ? null
                        : new Authentication.SymmetricKey(text(keys, "primaryKey"), text(keys, "secondaryKey")),
                thumbs == null || thumbs.isNull() ? null
                        : new Authentication.X509Thumbprint(text(thumbs, "primaryThumbprint"),
                        text(thumbs, "secondaryThumbprint")));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isValueNode()) {
            throw new HubException(HubErrorCode.IotHubFormatError, "'" + field + "' must be a string");
        }
        return value.asText();
    }

    static ObjectNode write(Device d, ConnectionStates.State state, int queuedMessages) {
        ObjectNode out = Json.object();
        out.put("deviceId", d.deviceId());
        out.put("generationId", d.generationId());
        out.put("etag", d.etag());
        out.put("connectionState", state.connected() ? "Connected" : "Disconnected");
        out.put("status", d.status());
        out.put("statusReason", d.statusReason());
        out.put("connectionStateUpdatedTime", state.connectionStateUpdatedTime());
        out.put("statusUpdatedTime", d.statusUpdatedTime());
        out.put("lastActivityTime", state.lastActivityTime());
        out.put("cloudToDeviceMessageCount", queuedMessages);
        out.set("authentication", writeAuthentication(d.authentication()));
        out.putObject("capabilities").put("iotEdge", d.iotEdge());
        if (d.deviceScope() != null) {
            out.put("deviceScope", d.deviceScope());
        }
        var scopes = out.putArray("parentScopes");
        if (d.parentScopes() != null) {
            d.parentScopes().forEach(scopes::add);
        }
        return out;
    }

    static ObjectNode write(Module m, ConnectionStates.State state) {
        ObjectNode out = Json.object();
        out.put("moduleId", m.moduleId());
        out.put("managedBy", m.managedBy());
        out.put("deviceId", m.deviceId());
        out.put("generationId", m.generationId());
        out.put("etag", m.etag());
        out.put("connectionState", state.connected() ? "Connected" : "Disconnected");
        out.put("connectionStateUpdatedTime", state.connectionStateUpdatedTime());
        out.put("lastActivityTime", state.lastActivityTime());
        // cloud-to-device queues are per device; modules receive none through them
        out.put("cloudToDeviceMessageCount", 0);
        out.set("authentication", writeAuthentication(m.authentication()));
        return out;
    }

    /** Both key kinds are always present, the unused one with nulls, as IoT Hub writes them. */
    private static ObjectNode writeAuthentication(Authentication a) {
        ObjectNode out = Json.object();
        ObjectNode keys = out.putObject("symmetricKey");
        keys.put("primaryKey", a.symmetricKey() == null ? null : a.symmetricKey().primaryKey());
        keys.put("secondaryKey", a.symmetricKey() == null ? null : a.symmetricKey().secondaryKey());
        ObjectNode thumbs = out.putObject("x509Thumbprint");
        thumbs.put("primaryThumbprint", a.x509Thumbprint() == null ? null : a.x509Thumbprint().primaryThumbprint());
        thumbs.put("secondaryThumbprint", a.x509Thumbprint() == null ? null
                : a.x509Thumbprint().secondaryThumbprint());
        out.put("type", a.type());
        return out;
    }
}
