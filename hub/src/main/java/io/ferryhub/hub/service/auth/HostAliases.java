package io.ferryhub.hub.service.auth;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The names the hub answers to: its configured host name, localhost, 127.0.0.1, ::1, the machine's name and any
 * configured extra alias. SAS {@code sr} values and MQTT user names may carry any of them, in any case, with or
 * without a port.
 */
public final class HostAliases {
    private final String hostName;
    private final Set<String> names;

    public HostAliases(String hostName, Set<String> aliases) {
        this.hostName = hostName;
        Set<String> all = new LinkedHashSet<>();
        all.add(hostName.toLowerCase(Locale.ROOT));
        aliases.forEach(a -> all.add(a.toLowerCase(Locale.ROOT)));
        this.names = Collections.unmodifiableSet(all);
    }

    /** The configured host name: what connection strings carry. */
    public String hostName() {
        return hostName;
    }

    /** Every name, the host name first, lower case. */
    public Set<String> all() {
        return names;
    }

    /** Whether {@code host} (e.g. {@code MyHub.example.com:443}, {@code [::1]:8883}, {@code ::1}) is one of ours. */
    public boolean isOwn(String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        return names.contains(withoutPort(host).toLowerCase(Locale.ROOT));
    }

    static String withoutPort(String host) {
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            return close > 0 ? host.substring(1, close) : host;
        }
        int colon = host.indexOf(':');
        // more than one colon: a bare IPv6 address, which has no port
        return colon >= 0 && host.indexOf(':', colon + 1) < 0 ? host.substring(0, colon) : host;
    }
}
