package io.ferryhub.common.sas;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An IoT Hub connection string: {@code ;}-separated {@code Key=Value} pairs, keys case-sensitive as IoT Hub writes
 * them. A device string has {@code HostName}, {@code DeviceId} (and {@code ModuleId} for a module) and exactly one of
 * {@code SharedAccessKey}, {@code SharedAccessSignature} or {@code x509=true}; a service string has {@code HostName},
 * {@code SharedAccessKeyName} and {@code SharedAccessKey}.
 */
public final class ConnectionString {
    private static final Set<String> KNOWN_KEYS = Set.of("HostName", "DeviceId", "ModuleId", "SharedAccessKey",
            "SharedAccessKeyName", "SharedAccessSignature", "x509", "GatewayHostName");

    private final Map<String, String> fields;

    private ConnectionString(Map<String, String> fields) {
        this.fields = fields;
    }

    /** Parses and validates; a malformed string throws {@link IllegalArgumentException} naming the problem. */
    public static ConnectionString parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty connection string");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String part : text.trim().split(";")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("connection string part is not Key=Value");
            }
            String key = part.substring(0, eq).trim();
            if (!KNOWN_KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown connection string key '" + key + "'");
            }
            if (fields.put(key, part.substring(eq + 1).trim()) != null) {
                throw new IllegalArgumentException("connection string key '" + key + "' appears twice");
            }
        }
        ConnectionString cs = new ConnectionString(fields);
        cs.validate();
        return cs;
    }

    private void validate() {
        if (!fields.containsKey("HostName") || fields.get("HostName").isEmpty()) {
            throw new IllegalArgumentException("connection string has no HostName");
        }
        int credentials = (fields.containsKey("SharedAccessKey") ? 1 : 0)
                + (fields.containsKey("SharedAccessSignature") ? 1 : 0)
                + ("true".equalsIgnoreCase(fields.get("x509")) ? 1 : 0);
        if (credentials != 1) {
            throw new IllegalArgumentException(
                    "connection string needs exactly one of SharedAccessKey, SharedAccessSignature or x509=true");
        }
        if (!isDevice() && !fields.containsKey("SharedAccessKeyName") && !fields.containsKey("SharedAccessSignature")) {
            throw new IllegalArgumentException("connection string has neither DeviceId nor SharedAccessKeyName");
        }
        if (fields.containsKey("ModuleId") && !isDevice()) {
            throw new IllegalArgumentException("connection string has a ModuleId but no DeviceId");
        }
    }

    public static ConnectionString forDevice(String hostName, String deviceId, String moduleId, String key) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("HostName", hostName);
        fields.put("DeviceId", deviceId);
        if (moduleId != null) {
            fields.put("ModuleId", moduleId);
        }
        fields.put("SharedAccessKey", key);
        return new ConnectionString(fields);
    }

    public static ConnectionString forX509Device(String hostName, String deviceId, String moduleId) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("HostName", hostName);
        fields.put("DeviceId", deviceId);
        if (moduleId != null) {
            fields.put("ModuleId", moduleId);
        }
        fields.put("x509", "true");
        return new ConnectionString(fields);
    }

    public static ConnectionString forPolicy(String hostName, String policyName, String key) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("HostName", hostName);
        fields.put("SharedAccessKeyName", policyName);
        fields.put("SharedAccessKey", key);
        return new ConnectionString(fields);
    }

    public boolean isDevice() {
        return fields.containsKey("DeviceId");
    }

    public String hostName() {
        return fields.get("HostName");
    }

    public Optional<String> deviceId() {
        return Optional.ofNullable(fields.get("DeviceId"));
    }

    public Optional<String> moduleId() {
        return Optional.ofNullable(fields.get("ModuleId"));
    }

    public Optional<String> sharedAccessKey() {
        return Optional.ofNullable(fields.get("SharedAccessKey"));
    }

    public Optional<String> sharedAccessKeyName() {
        return Optional.ofNullable(fields.get("SharedAccessKeyName"));
    }

    public Optional<String> sharedAccessSignature() {
        return Optional.ofNullable(fields.get("SharedAccessSignature"));
    }

    public boolean isX509() {
        return "true".equalsIgnoreCase(fields.get("x509"));
    }

    /** The resource a token from this string is scoped to (not encoded): the hub, the device or the module. */
    public String resourceUri() {
        StringBuilder uri = new StringBuilder(hostName());
        deviceId().ifPresent(d -> uri.append("/devices/").append(d));
        moduleId().ifPresent(m -> uri.append("/modules/").append(m));
        return uri.toString();
    }

    /** A SAS token for this identity valid until {@code expiry}, or the pre-made one the string carries. */
    public String sasToken(Instant expiry) {
        if (sharedAccessSignature().isPresent()) {
            return sharedAccessSignature().get();
        }
        String key = sharedAccessKey().orElseThrow(() -> new IllegalStateException("x509 identities have no SAS key"));
        return SasToken.create(resourceUri(), key, isDevice() ? null : sharedAccessKeyName().orElse(null), expiry);
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        fields.forEach((k, v) -> {
            if (out.length() > 0) {
                out.append(';');
            }
            out.append(k).append('=').append(v);
        });
        return out.toString();
    }

    /** The string with secrets replaced, for logs. */
    public String redacted() {
        StringBuilder out = new StringBuilder();
        fields.forEach((k, v) -> {
            if (out.length() > 0) {
                out.append(';');
            }
            boolean secret = k.equals("SharedAccessKey") || k.equals("SharedAccessSignature");
            out.append(k).append('=').append(secret ? "***" : v);
        });
        return out.toString();
    }
}
