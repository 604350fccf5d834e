package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.auth.AuthenticatedDevice;

/**
 * IoT Hub's MQTT access rule: an identity may publish and subscribe only under its own topic space
 * ({@code devices/{deviceId}/...} for a device, {@code devices/{deviceId}/modules/{moduleId}/...} for a module) and
 * under {@code $iothub/...}, whose topics are implicitly scoped to the connection's identity.
 */
final class TopicAcl {
    static final String IOTHUB_PREFIX = "$iothub/";

    private final String ownPrefix;
    private final String moduleSpacePrefix;

    TopicAcl(AuthenticatedDevice identity) {
        String devicePrefix = "devices/" + identity.deviceId() + "/";
        this.ownPrefix = identity.moduleId() == null ? devicePrefix
                : devicePrefix + "modules/" + identity.moduleId() + "/";
        // a device identity must not reach into its modules' topic space
        this.moduleSpacePrefix = identity.moduleId() == null ? devicePrefix + "modules/" : null;
    }

    /** Whether the identity may publish to this topic name (wildcards are never allowed in a name). */
    boolean mayPublish(String topic) {
        return topic.indexOf('#') < 0 && topic.indexOf('+') < 0 && allowed(topic);
    }

    /** Whether the identity may subscribe with this (well-formed) filter, which must lie in its own topic space. */
    boolean maySubscribe(String filter) {
        return TopicFilter.isValid(filter) && allowed(filter);
    }

    private boolean allowed(String topic) {
        if (topic.startsWith(IOTHUB_PREFIX)) {
            return true;
        }
        return topic.startsWith(ownPrefix) && (moduleSpacePrefix == null || !topic.startsWith(moduleSpacePrefix));
    }
}
