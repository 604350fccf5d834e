package io.ferryhub.hub.adapter.amqp;

import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;

/** How the hub answers a peer's attach, whichever node the link is for. */
final class AmqpLinks {
    private AmqpLinks() {
    }

    /** Takes the peer's termini and settle modes as ours; the caller opens the link. */
    static void mirror(Link link) {
        link.setSource(link.getRemoteSource());
        link.setTarget(link.getRemoteTarget());
        link.setSenderSettleMode(link.getRemoteSenderSettleMode());
        link.setReceiverSettleMode(link.getRemoteReceiverSettleMode());
    }

    /** AMQP's way to refuse an attach: answer it with no terminus on our side, then detach with the reason. */
    static void refuse(Link link, ErrorCondition condition) {
        link.setSource(link instanceof Receiver ? link.getRemoteSource() : null);
        link.setTarget(link instanceof Receiver ? null : link.getRemoteTarget());
        link.open();
        link.setCondition(condition);
        link.close();
    }
}
