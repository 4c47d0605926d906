import { uint } from 'tsrpc-proto';

export interface MsgGameFrame {
    frame: uint;
    inputs: PlayerInput[];
}

export interface PlayerInput {
    player: uint;
    x: number;
    y: number;
}
