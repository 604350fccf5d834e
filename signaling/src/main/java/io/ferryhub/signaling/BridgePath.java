package io.ferryhub.signaling;

import io.ferryhub.common.sas.PercentEncoding;

/**
 * The streaming gateway's URL path for one stream: {@code /bridges/{hub}/{device}/{streamId}}, or
 * {@code /bridges/{hub}/{device}/modules/{module}/{streamId}} for a module; identifiers percent-encoded. The hub
 * builds it into the stream URL and the gateway checks that a connection's path is the one its token names.
 */
public final class BridgePath {
    public static final String PREFIX = "/bridges/";

    private BridgePath() {
    }

    public static String of(String hubName, String deviceId, String moduleId, String streamId) {
        StringBuilder path = new StringBuilder(PREFIX).append(PercentEncoding.encode(hubName)).append('/')
                .append(PercentEncoding.encode(deviceId)).append('/');
        if (moduleId != null) {
            path.append("modules/").append(PercentEncoding.encode(moduleId)).append('/');
        }
        return path.append(streamId).toString();
    }

    public static String of(StreamToken token) {
        return of(token.hubName(), token.deviceId(), token.moduleId(), token.streamId());
    }
}
