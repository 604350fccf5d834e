package io.ferryhub.hub.adapter.mqtt;

import java.util.Optional;

/**
 * The identity an MQTT CONNECT claims: client id {@code {deviceId}} or {@code {deviceId}/{moduleId}}, and a user name
 * {@code {host}/{clientId}/?api-version=...&DeviceClientType=...} naming the same client id. The user name is read
 * loosely as IoT Hub does: any host alias (the SAS token's resource is what the authenticator checks), any
 * api-version, any extra query fields, and with or without the {@code /} before the {@code ?}.
 */
record ClientIdentity(String deviceId, String moduleId) {
    /** The largest id IoT Hub allows for a device or module. */
    private static final int MAX_ID_LENGTH = 128;

    /** Parses a client id; empty when it is not one of IoT Hub's two forms with valid ids. */
    static Optional<ClientIdentity> parseClientId(String clientId) {
        if (clientId == null || clientId.isEmpty()) {
            return Optional.empty();
        }
        String[] parts = clientId.split("/", -1);
        if (parts.length > 2 || !isValidId(parts[0]) || (parts.length == 2 && !isValidId(parts[1]))) {
            return Optional.empty();
        }
        return Optional.of(new ClientIdentity(parts[0], parts.length == 2 ? parts[1] : null));
    }

    /**
     * Whether the user name has IoT Hub's form for this client id. Modules may write either
     * {@code host/device/module/?...} or {@code host/device/module?...}.
     */
    boolean matchesUserName(String userName) {
        if (userName == null) {
            return false;
        }
        int query = userName.indexOf('?');
        String path = query < 0 ? userName : userName.substring(0, query);
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        int firstSlash = path.indexOf('/');
        return firstSlash > 0 && path.substring(firstSlash + 1).equals(clientId());
    }

    String clientId() {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }

    /** IoT Hub's id alphabet: ASCII letters and digits plus {@code - . % _ * ? ! ( ) , : = @ $ '}. */
    private static boolean isValidId(String id) {
        if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-.%_*?!(),:=@$'".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
