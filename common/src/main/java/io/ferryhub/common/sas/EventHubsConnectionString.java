package io.ferryhub.common.sas;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The hub's built-in endpoint as Event Hubs clients address it:
 * {@code Endpoint=sb://{host}/;SharedAccessKeyName={policy};SharedAccessKey={key};EntityPath={name}}, the string
 * IoT Hub shows as the "Event Hub-compatible endpoint".
 */
public final class EventHubsConnectionString {
    private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|.*:.*");

    private EventHubsConnectionString() {
    }

    /**
     * The built-in endpoint's event hub name: the hub's name, i.e. the first label of its host name
     * ({@code myhub} for {@code myhub.example.com}), or the whole address when the hub is known by an IP address.
     */
    public static String eventHubName(String hostName) {
        if (IP_LITERAL.matcher(hostName).matches()) {
            return hostName;
        }
        int dot = hostName.indexOf('.');
        return (dot < 0 ? hostName : hostName.substring(0, dot)).toLowerCase(Locale.ROOT);
    }

    public static String of(String hostName, String policyName, String key) {
        return "Endpoint=sb://" + hostName + "/;SharedAccessKeyName=" + policyName + ";SharedAccessKey=" + key
                + ";EntityPath=" + eventHubName(hostName);
    }
}
