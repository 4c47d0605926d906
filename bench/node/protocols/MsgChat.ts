export interface MsgChat {
    name: string;
    content: string;
}
