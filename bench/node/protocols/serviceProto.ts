import { ServiceProto } from 'tsrpc-proto';
import { MsgChat } from './MsgChat';
import { MsgGameFrame } from './MsgGameFrame';
import { ReqAdd, ResAdd } from './PtlAdd';
import { ReqStartFanout, ResStartFanout } from './PtlStartFanout';
import { ReqStartPush, ResStartPush } from './PtlStartPush';

export interface ServiceType {
    api: {
        "Add": {
            req: ReqAdd,
            res: ResAdd
        },
        "StartFanout": {
            req: ReqStartFanout,
            res: ResStartFanout
        },
        "StartPush": {
            req: ReqStartPush,
            res: ResStartPush
        }
    },
    msg: {
        "Chat": MsgChat,
        "GameFrame": MsgGameFrame
    }
}

export const serviceProto: ServiceProto<ServiceType> = {
    "services": [
        {
            "id": 0,
            "name": "Chat",
            "type": "msg"
        },
        {
            "id": 1,
            "name": "GameFrame",
            "type": "msg"
        },
        {
            "id": 2,
            "name": "Add",
            "type": "api"
        },
        {
            "id": 3,
            "name": "StartFanout",
            "type": "api"
        },
        {
            "id": 4,
            "name": "StartPush",
            "type": "api"
        }
    ],
    "types": {
        "MsgChat/MsgChat": {
            "type": "Interface",
            "properties": [
                {
                    "id": 0,
                    "name": "name",
                    "type": {
                        "type": "String"
                    }
                },
                {
                    "id": 1,
                    "name": "content",
                    "type": {
                        "type": "String"
                    }
                }
            ]
        },
        "MsgGameFrame/MsgGameFrame": {
            "type": "Interface",
            "properties": [
                {
                    "id": 0,
                    "name": "frame",
                    "type": {
                        "type": "Number",
                        "scalarType": "uint"
                    }
                },
                {
                    "id": 1,
                    "name": "inputs",
                    "type": {
                        "type": "Array",
                        "elementType": {
                            "type": "Reference",
                            "target": "MsgGameFrame/PlayerInput"
                        }
                    }
                }
            ]
        },
        "MsgGameFrame/PlayerInput": {
            "type": "Interface",
            "properties": [
                {
                    "id": 0,
                    "name": "player",
                    "type": {
                        "type": "Number",
                        "scalarType": "uint"
                    }
                },
                {
                    "id": 1,
                    "name": "x",
                    "type": {
                        "type": "Number"
                    }
                },
                {
                    "id": 2,
                    "name": "y",
                    "type": {
                        "type": "Number"
                    }
                }
            ]
        },
        "PtlAdd/ReqAdd": {
            "type": "Interface",
            "properties": [
                {
                    "id": 0,
                    "name": "a",
                    "type": {
                        "type": "Number"
                    }
                },
                {
                    "id": 1,
                    "name": "b",
                    "type": {
                        "type": "Number"
                    }
                }
            ]
        },
        "PtlAdd/ResAdd": {
            "type": "Interface",
            "properties": [
                {
                    "id": 0,
                    "name": "c",
                    "type": {
                        "type": "Number"
                    }
                }
            ]
        },
        "PtlStartFanout/ReqStartFanout": {
            "type": "Interface",
            "properties": [
                {
                    "id": 0,
                    "name": "m",
                    "type": {
                        "type": "Number",
                        "scalarType": "uint"
                    }
                }
            ]
        },
        "PtlStartFanout/ResStartFanout": {
            "type": "Interface"
        },
        "PtlStartPush/ReqStartPush": {
            "type": "Interface",
            "properties": [
                {
                    "id": 0,
                    "name": "n",
                    "type": {
                        "type": "Number",
                        "scalarType": "uint"
                    }
                }
            ]
        },
        "PtlStartPush/ResStartPush": {
            "type": "Interface"
        }
    }
};