package io.ferryhub.common.ipfilter;

import java.net.InetAddress;

/**
 * The IP filter as an {@link AddressGate} policy: the current {@link IpFilterRules}, swapped whole on every change
 * (one volatile read per new connection, never a half-changed list).
 */
public final class IpFilter implements AddressGate.Policy {
    private volatile IpFilterRules rules = IpFilterRules.EMPTY;

    public IpFilterRules rules() {
        return rules;
    }

    public void set(IpFilterRules rules) {
        this.rules = rules;
    }

    @Override
    public String reason() {
        return "ip_filter";
    }

    @Override
    public boolean admits(InetAddress address) {
        return rules.admits(address);
    }
}
