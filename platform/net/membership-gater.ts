import type { ConnectionGater, PeerId } from '@libp2p/interface'

export interface RefusedPeer {
  peerId: string
  direction: 'inbound' | 'outbound'
  remoteAddr?: string
}

/**
 * A connection gater that admits only federation members. Inbound connections are refused right
 * after the Noise handshake proves the remote peer id, before multiplexing, so a non-member never
 * opens a stream and never reaches a protocol handler. `isMember` is read on every decision, so a
 * reloaded manifest takes effect for new connections at once.
 */
export function membershipGater(
  isMember: (peerId: string) => boolean,
  onRefused: (refused: RefusedPeer) => void
): ConnectionGater {
  const check = (peerId: PeerId, direction: RefusedPeer['direction'], remoteAddr?: string): boolean => {
    const id = peerId.toString()
    if (isMember(id)) return false
    onRefused({ peerId: id, direction, remoteAddr })
    return true
  }
  return {
    denyDialPeer: (peerId) => check(peerId, 'outbound'),
    denyInboundEncryptedConnection: (peerId, maConn) =>
      check(peerId, 'inbound', maConn.remoteAddr.toString()),
    denyOutboundEncryptedConnection: (peerId, maConn) =>
      check(peerId, 'outbound', maConn.remoteAddr.toString()),
    denyInboundUpgradedConnection: (peerId, maConn) => check(peerId, 'inbound', maConn.remoteAddr.toString()),
    denyOutboundUpgradedConnection: (peerId, maConn) =>
      check(peerId, 'outbound', maConn.remoteAddr.toString())
  }
}
