package io.ferryhub.hub.service.auth;

import java.util.Set;

/**
 * A back-end caller authenticated by a shared access policy token (or a device token on device-scoped routes).
 *
 * @param policyName the policy that signed the token ({@code skn}), e.g. {@code iothubowner}
 */
public record ServicePrincipal(String policyName, Set<Permission> permissions) {
    public boolean has(Permission permission) {
        return permissions.contains(permission);
    }
}
