package io.ferryhub.hub.service.auth;

import java.util.Set;

/** A hub-level shared access policy: a named key pair granting permissions, as IoT Hub's {@code iothubowner}. */
public record SharedAccessPolicy(String keyName, String primaryKey, String secondaryKey, Set<Permission> rights) {
    public SharedAccessPolicy {
        rights = Set.copyOf(rights);
    }
}
